"""Order notifications: what platforms push instead of orders.

抖店 (and Taobao's, Pinduoduo's message services) push a short message ("order 6919... of shop
4463798 was paid") and a seller's system fetches the order with a signed API call. lvyue stores
each message before it answers (repeats stored once), and a job of order-review's consumers'
process fetches the orders the stored messages name and takes them through the same intake as
a webhook or a pull: an order once, whatever the number of notifications. What a notification
never brought, the shop's pull (pulls/) finds and counts as reconciled.
"""
