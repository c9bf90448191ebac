-- Create index "order_state_finished_at" to table: "orders"
CREATE INDEX "order_state_finished_at" ON "orders" ("state", "finished_at");
