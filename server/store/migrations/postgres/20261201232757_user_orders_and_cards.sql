-- Create index "card_owner_id" to table: "cards"
CREATE INDEX "card_owner_id" ON "cards" ("owner_id");
-- Create index "order_user_id_created_at" to table: "orders"
CREATE INDEX "order_user_id_created_at" ON "orders" ("user_id", "created_at");
