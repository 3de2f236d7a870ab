-- Undo V017: the default fillfactor (where the rows lie does not matter to the schema).
ALTER TABLE bank.budgets RESET (fillfactor);
ALTER TABLE bank.monthly_totals RESET (fillfactor);
ALTER TABLE bank.daily_flows RESET (fillfactor);
-- squawk-ignore ban-drop-column
ALTER TABLE bank.monthly_totals DROP COLUMN has_budget;

-- Since V017 functions/bank.tg_budgets__alerts.sql calls the budget alerts' function only on a
-- crossing, by two triggers (_500_alerts_insert and _500_alerts_update) in place of V016's one:
-- that one is put back as V016 made it, so that V016's rollback finds what it undoes. The next
-- migrate splits it again.
DROP TRIGGER IF EXISTS _500_alerts_insert ON bank.budgets;
DROP TRIGGER IF EXISTS _500_alerts_update ON bank.budgets;
CREATE OR REPLACE TRIGGER _500_alerts AFTER INSERT OR UPDATE OF spent_amount, limit_amount, warning_percent, carried_in
ON bank.budgets
FOR EACH ROW WHEN (new.spent_amount * 100 >= (new.limit_amount + new.carried_in) * new.warning_percent)
EXECUTE FUNCTION bank.tg_budgets__alerts();
