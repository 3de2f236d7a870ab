-- The seed document's ten categories. Idempotent: re-running updates them in place.
INSERT INTO bank.category_master (name, description, icon, color)
VALUES
('Groceries', 'Food & grocery purchases', 'shopping_cart', '#FF6B6B'),
('Utilities', 'Electric, water, gas bills', 'lightning', '#4ECDC4'),
('Entertainment', 'Movies, games, dining', 'film', '#45B7D1'),
('Transportation', 'Gas, transit, parking', 'car', '#F7DC6F'),
('Healthcare', 'Medical, pharmacy', 'health', '#BB8FCE'),
('Shopping', 'Retail, online purchases', 'bag', '#85C1E2'),
('Subscriptions', 'SaaS, streaming, memberships', 'layers', '#F8B88B'),
('Salary', 'Income', 'trending_up', '#52C41A'),
('Transfer', 'Inter-account transfers', 'swap', '#1890FF'),
('Other', 'Uncategorized', 'more_horiz', '#BFBFBF')
ON CONFLICT (name) DO UPDATE
    SET
        description = excluded.description,
        icon = excluded.icon,
        color = excluded.color;
