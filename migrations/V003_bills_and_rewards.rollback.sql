-- Undo V003.
DROP TABLE bank.rewards;
DROP TABLE bank.bills;
DROP TYPE bank.bill_status;
