-- Create index "certificate_card_id" to table: "certificates"
CREATE INDEX `certificate_card_id` ON `certificates` (`card_id`);
