-- Create index "card_updated_at" to table: "cards"
CREATE INDEX "card_updated_at" ON "cards" ("updated_at");
