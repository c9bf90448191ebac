package audit

import (
	"context"
	"fmt"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/viewer"
)

// Label is an audit event in people's terms: who acted, what the event is about, and the
// person it concerns (the person themself for a User, the owner of a card, certificate
// or order).
type Label struct {
	// ActorName is the acting person's display name (their username if they have none);
	// for other actors (a portal's client id, "system", "anonymous") the stored actor.
	ActorName string
	// ObjectLabel names the object: a card's or certificate's serial, a person's name, an
	// option script's name; "" for an order and for an object that is gone.
	ObjectLabel string
	// SubjectID and SubjectName are the person the object belongs to, "" if none.
	SubjectID, SubjectName string
}

// Labels resolves events' labels by event id: at most five statements for any number of
// events (cards, certificates, their orders, orders, people), each a look-up by primary
// key. Objects deleted since (a purged card) keep what the event itself says.
func Labels(ctx context.Context, db *ent.Client, events []*ent.AuditEvent) (map[string]Label, error) {
	ctx = viewer.AsServer(ctx)
	ids := map[string][]string{}
	for _, ev := range events {
		ids[ev.ObjectType] = append(ids[ev.ObjectType], ev.ObjectID)
	}
	type object struct{ label, owner string }
	objects := map[string]object{}
	people := map[string]bool{}
	for _, ev := range events {
		if ev.ActorID != "" {
			people[ev.ActorID] = true
		}
	}
	for _, id := range ids["User"] {
		objects[id] = object{owner: id}
		people[id] = true
	}
	if len(ids["Card"]) > 0 {
		cards, err := db.Card.Query().Where(card.IDIn(ids["Card"]...)).
			Select(card.FieldID, card.FieldSerial, card.FieldOwnerID).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("read cards of audit events: %w", err)
		}
		for _, c := range cards {
			objects[c.ID] = object{label: c.Serial, owner: c.OwnerID}
			people[c.OwnerID] = true
		}
	}
	orderIDs := ids["Order"]
	certOrder := map[string]string{}
	if len(ids["Certificate"]) > 0 {
		certs, err := db.Certificate.Query().Where(certificate.IDIn(ids["Certificate"]...)).
			Select(certificate.FieldID, certificate.FieldSerial, certificate.FieldOrderID).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("read certificates of audit events: %w", err)
		}
		for _, c := range certs {
			objects[c.ID] = object{label: c.Serial}
			certOrder[c.ID] = c.OrderID
			orderIDs = append(orderIDs, c.OrderID)
		}
	}
	orderOwner := map[string]string{}
	if len(orderIDs) > 0 {
		orders, err := db.Order.Query().Where(order.IDIn(orderIDs...)).
			Select(order.FieldID, order.FieldUserID).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("read orders of audit events: %w", err)
		}
		for _, o := range orders {
			orderOwner[o.ID] = o.UserID
			people[o.UserID] = true
		}
	}
	for _, id := range ids["Order"] {
		if owner, ok := orderOwner[id]; ok {
			objects[id] = object{owner: owner}
		}
	}
	for cert, o := range certOrder {
		obj := objects[cert]
		obj.owner = orderOwner[o]
		objects[cert] = obj
	}
	names := map[string]string{}
	if len(people) > 0 {
		pids := make([]string, 0, len(people))
		for id := range people {
			pids = append(pids, id)
		}
		users, err := db.User.Query().Where(user.IDIn(pids...)).
			Select(user.FieldID, user.FieldUsername, user.FieldDisplayName).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("read people of audit events: %w", err)
		}
		for _, u := range users {
			names[u.ID] = PersonName(u)
		}
	}
	out := make(map[string]Label, len(events))
	for _, ev := range events {
		l := Label{ActorName: ev.Actor}
		if n, ok := names[ev.ActorID]; ok && ev.ActorID != "" {
			l.ActorName = n
		}
		obj, known := objects[ev.ObjectID]
		switch {
		case ev.ObjectType == "User":
			l.ObjectLabel = names[ev.ObjectID]
		case ev.ObjectType == "OptionScript":
			l.ObjectLabel = ev.ObjectID
		case known:
			l.ObjectLabel = obj.label
		}
		if known && obj.owner != "" {
			l.SubjectID, l.SubjectName = obj.owner, names[obj.owner]
		}
		out[ev.ID] = l
	}
	return out, nil
}

// PersonName is how people see a person named: their display name, else their username.
func PersonName(u *ent.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}
