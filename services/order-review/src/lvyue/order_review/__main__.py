from lvyue.order_review.main import run

run()
