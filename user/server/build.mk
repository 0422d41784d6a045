# user/server build rules
