-- Run by bankdb migrate after every run, as bank_owner: the partitions of bank.transactions from the
-- current month through bank.partition_months_ahead() months ahead, so the first write dated today
-- finds its partition before bankdb maintain ever ran. Creates only what is missing.
SELECT bank.create_transaction_partitions(
    current_date,
    (date_trunc('month', current_date) + make_interval(months => bank.partition_months_ahead()))::date
);
