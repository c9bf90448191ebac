-- Create index "order_user_id_running" to table: "orders"
CREATE UNIQUE INDEX `order_user_id_running` ON `orders` (`user_id`) WHERE finished_at IS NULL;
