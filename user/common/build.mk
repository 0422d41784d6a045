# user/common build rules
