# user/agent build rules
