-- Create index "user_username" to table: "users"
CREATE INDEX "user_username" ON "users" ("username");
