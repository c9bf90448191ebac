-- Hand-written (not from ent/schema): every change of an order notifies the instances'
-- event listeners as part of the transaction that makes it. PostgreSQL delivers the notice
-- when, and only if, the transaction commits, so no notice is lost between a commit and a
-- publish, and publishing costs no round trip of its own. server/events looks for this
-- trigger and publishes order keys itself where it is missing.
CREATE FUNCTION "vscard_notify_order"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('vscard_events', 'order:' || NEW."id");
  RETURN NULL;
END
$$;
CREATE TRIGGER "orders_notify" AFTER INSERT OR UPDATE ON "orders" FOR EACH ROW EXECUTE FUNCTION "vscard_notify_order"();
