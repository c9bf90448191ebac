-- Modify "cards" table
ALTER TABLE "cards" ADD COLUMN "replaced_by_id" character varying NULL, ADD CONSTRAINT "cards_cards_replaces" FOREIGN KEY ("replaced_by_id") REFERENCES "cards" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Create index "cards_replaced_by_id_key" to table: "cards"
CREATE UNIQUE INDEX "cards_replaced_by_id_key" ON "cards" ("replaced_by_id");
