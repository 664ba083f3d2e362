"""lvyue console: the operators' web pages, served from the other services' HTTP APIs."""
