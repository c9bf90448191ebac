package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/vscard/vscard/desktop-bridge/agent"
	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

type cardsCmd struct {
	JSON bool `help:"Print JSON."`
}

// Run lists the cards: from the agent when it runs (which knows the readers), else
// from the data directory.
func (c *cardsCmd) Run(ctx context.Context, g *globals) error {
	cards, err := agent.NewClient(g.socket()).Cards(ctx)
	if err != nil {
		dataDir, derr := g.dataDir()
		if derr != nil {
			return derr
		}
		if cards, err = agent.ListCards(dataDir); err != nil {
			return err
		}
	}
	if c.JSON {
		return printJSON(cards)
	}
	l := lang()
	if len(cards) == 0 {
		fmt.Println(say(l, "noCards"))
		return nil
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, say(l, "cardsHeader"))
	for _, card := range cards {
		reader := card.Reader
		if reader == "" {
			reader = say(l, "notInserted")
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", card.Serial, orRaw(say(l, "state_"+card.State), card.State), reader, dash(card.UserName), dash(card.Server))
		for _, cert := range card.Certificates {
			fmt.Fprintln(w, say(l, "cardCertificate", cert.Slot, orRaw(say(l, cert.Template), cert.Template), cert.Subject, cert.NotAfter.Local().Format(time.DateOnly)))
		}
	}
	return w.Flush()
}

type deleteCmd struct {
	Serial    string `arg:"" help:"Serial of the card to delete."`
	PINStdin  bool   `name:"pin-stdin" help:"Read the card's PIN from standard input (again after a wrong one)."`
	LocalOnly bool   `name:"local-only" help:"Only remove the card from this computer; do not tell the server (the card keeps working elsewhere until it is revoked in the portal)."`
}

// Run deletes the card: first on the server that issued it, which makes it INACTIVE and
// revokes its certificates (the same delete-virtual-smart-card as the portal's Delete), then
// on this computer, through the agent (which takes it out of its reader first) or from disk
// when no agent runs. There is no portal session on the desktop, so the card itself proves
// to the server that this computer holds it: it signs the server's challenge with its
// authentication key, which takes the PIN. Should the server refuse, nothing is removed
// here, so the person can try again; a card the server no longer has in use (deleted in the
// portal, revoked, purged) is removed here at once.
func (c *deleteCmd) Run(ctx context.Context, g *globals) error {
	n, err := strconv.ParseUint(c.Serial, 10, 32)
	if err != nil {
		return refuse(err, lang(), "notSerial", c.Serial)
	}
	serial := uint32(n)
	client := agent.NewClient(g.socket())
	_, serr := client.Status(ctx)
	agentRuns := serr == nil
	if !c.LocalOnly {
		info, err := findCard(ctx, g, client, agentRuns, serial)
		if err != nil {
			return err
		}
		if info.Server != "" {
			if info.Reader == "" {
				return refuse(nil, lang(), "notInReader", serial, info.Server)
			}
			if err := c.tellServer(ctx, info); err != nil {
				return err
			}
		}
	}
	// The agent follows the card's server and removes a card the server deleted: it may
	// have been quicker than this command, which is what the command wanted anyway.
	var gone *agent.AgentError
	if agentRuns {
		err := client.DeleteCard(ctx, serial)
		if err != nil && !(errors.As(err, &gone) && gone.Status == http.StatusNotFound) {
			return err // the agent's message names the card
		}
	} else {
		dataDir, err := g.dataDir()
		if err != nil {
			return err
		}
		if err := agent.DeleteFiles(dataDir, serial); err != nil && !errors.Is(err, vcard.ErrNotFound) {
			return err
		}
	}
	fmt.Println(say(lang(), "deleted", serial))
	return nil
}

// findCard returns what this computer knows of card serial: from the agent, which knows
// its reader, or else from the data directory.
func findCard(ctx context.Context, g *globals, client *agent.Client, agentRuns bool, serial uint32) (agent.CardInfo, error) {
	var cards []agent.CardInfo
	var err error
	if agentRuns {
		cards, err = client.Cards(ctx)
	} else {
		dataDir, derr := g.dataDir()
		if derr != nil {
			return agent.CardInfo{}, derr
		}
		cards, err = agent.ListCards(dataDir)
	}
	if err != nil {
		return agent.CardInfo{}, err
	}
	for _, card := range cards {
		if card.Serial == serial {
			return card, nil
		}
	}
	return agent.CardInfo{}, errors.New(handoff.Words(lang(), handoff.CodeCardNotHere))
}

// tellServer runs delete-virtual-smart-card on the card's server, the card signing the
// server's challenge. A card the server no longer has in use is not an error: this computer
// only follows.
func (c *deleteCmd) tellServer(ctx context.Context, info agent.CardInfo) error {
	srv, err := api.New(info.Server, http.DefaultClient)
	if err != nil {
		return err
	}
	gql := srv.GraphQL()
	serial := strconv.FormatUint(uint64(info.Serial), 10)
	ch, err := api.DeleteChallenge(ctx, gql, serial)
	if err != nil {
		return refuse(err, lang(), "noChallenge", info.Server)
	}
	fmt.Fprintln(os.Stderr, say(lang(), "deleting", info.Serial))
	in := bufio.NewScanner(os.Stdin)
	ask := func(ctx context.Context, problems []handoff.Problem) (string, error) {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "  -", handoff.ProblemWords(lang(), p, pivPIN))
		}
		if !c.PINStdin {
			if restore := noEcho(); restore != nil {
				defer restore()
			}
		}
		return readLine(in, say(lang(), "pinOfCard", serial))
	}
	sig, err := handoff.SignChallenge(ctx, info.Reader, info.Serial, []byte(ch.DeleteChallenge), ask)
	if err != nil {
		return errors.New(handoff.DescribeIn(lang(), err))
	}
	_, err = api.DeleteCardWithCard(ctx, gql, serial, ch.DeleteChallenge, base64.StdEncoding.EncodeToString(sig))
	switch api.Code(err) {
	case "":
		if err != nil {
			return refuse(err, lang(), "notDeleted", info.Server)
		}
		fmt.Fprintln(os.Stderr, say(lang(), "deletedOnServer", info.Server, info.Serial))
	case api.ErrorCodeIllegalState, api.ErrorCodeNotFound:
		fmt.Fprintln(os.Stderr, say(lang(), "noLongerInUse", info.Server, info.Serial))
	default:
		return refuse(err, lang(), "notDeleted", info.Server)
	}
	return nil
}

// orRaw is words, or raw when there are none (a state or template of a newer version).
func orRaw(words, raw string) string {
	if words == "" {
		return raw
	}
	return words
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printJSON(v any) error {
	enc := jsonEncoder(os.Stdout)
	if err := enc.Encode(v); err != nil {
		return errors.New("print JSON: " + err.Error())
	}
	return nil
}

func jsonEncoder(w *os.File) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc
}
