-- One PostgreSQL server, one database per service (ARCHITECTURE.md "database per service").
-- Runs once, when the data volume is empty; `lvyue migrate` also creates missing databases.
CREATE DATABASE lvyue_order_review;
CREATE DATABASE lvyue_inventory;
CREATE DATABASE lvyue_fulfilment;
CREATE DATABASE lvyue_aftersales;
