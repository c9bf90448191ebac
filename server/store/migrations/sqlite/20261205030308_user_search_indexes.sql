-- Create index "user_username_prefix" to table: "users"
CREATE INDEX `user_username_prefix` ON `users` (`username`);
-- Create index "user_email_prefix" to table: "users"
CREATE INDEX `user_email_prefix` ON `users` (`email`);
-- Create index "user_display_name_prefix" to table: "users"
CREATE INDEX `user_display_name_prefix` ON `users` (`display_name`);
