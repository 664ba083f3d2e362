"""Order-review's handlers: intake, review of inventory outcomes, operator commands."""
