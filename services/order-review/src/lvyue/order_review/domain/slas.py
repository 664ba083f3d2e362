"""The deadlines order-review opens and closes (ARCHITECTURE: the rules review_by_0900 and
abnormal_contact_2h)."""

REVIEW_SLA = "review_by_0900"  # reviewed (or flagged) by 09:00 the day after payment
CONTACT_SLA = "abnormal_contact_2h"  # an abnormal order's buyer contacted within 2 h
