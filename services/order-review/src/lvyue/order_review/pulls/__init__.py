"""Order pulls: what a platform's notifications missed, found by reading its orders back.

Platforms push notifications that are "not guaranteed" (Shopify's own words); every OMS pulls
increments to catch the rest. A job per configured shop reads the orders updated in
[watermark − overlap, now], page after page, and takes each through the same intake as a
webhook: an order already received changes nothing, one no notification brought is accepted
and counted as reconciled. The watermark advances in the transaction that committed the orders
it covers, so a pull that fails part-way starts again from where the last one ended.
"""
