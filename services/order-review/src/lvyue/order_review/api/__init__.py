"""order-review's HTTP API: order webhooks and the order view (orders.py), the abnormal queue and
the operators' actions (operator.py), finding acceptance (acceptance.py), the webhooks' OpenAPI
(webhook_docs.py with webhook_examples/). Nothing is imported here (the house plan): main.py
wires the routers."""
