-- Undo V003.
DROP TABLE bank.reward_entries;
DROP TABLE bank.rewards;
DROP TABLE bank.bills;
DROP TYPE bank.reward_entry_type;
DROP TYPE bank.bill_recurrence;
DROP TYPE bank.bill_status;
