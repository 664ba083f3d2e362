"""Fulfilment's use cases, called by the API: each opens its own unit of work and commits it
(shipments.py), and the errors they raise (errors.py). Dispatch (dispatch.py) and cancellation
(cancel.py) are shared with the event handlers, which call them inside the consumer's unit of
work; these commands wrap them in their own. Nothing is imported here, so that dispatch.py and
cancel.py can import the errors without importing the commands."""
