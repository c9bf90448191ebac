-- Modify "orders" table
ALTER TABLE "orders" ADD COLUMN "subject_card_id" character varying NULL, ADD CONSTRAINT "orders_cards_subject_orders" FOREIGN KEY ("subject_card_id") REFERENCES "cards" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Create index "order_subject_card_id" to table: "orders"
CREATE INDEX "order_subject_card_id" ON "orders" ("subject_card_id");
