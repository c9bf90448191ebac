package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/vscard/vscard/desktop-bridge/agent"
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
	if len(cards) == 0 {
		fmt.Println("No virtual cards.")
		return nil
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SERIAL\tSTATE\tREADER\tUSER\tSERVER")
	for _, card := range cards {
		reader := card.Reader
		if reader == "" {
			reader = "(not inserted)"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", card.Serial, card.State, reader, dash(card.UserName), dash(card.Server))
		for _, cert := range card.Certificates {
			fmt.Fprintf(w, "  slot %s\t%s\t%s\texpires %s\t\n", cert.Slot, cert.Template, cert.Subject, cert.NotAfter.Local().Format(time.DateOnly))
		}
	}
	return w.Flush()
}

type deleteCmd struct {
	Serial string `arg:"" help:"Serial of the card to remove."`
}

// Run removes the card through the agent (which takes it out of its reader first), or
// from disk when no agent runs.
func (c *deleteCmd) Run(ctx context.Context, g *globals) error {
	n, err := strconv.ParseUint(c.Serial, 10, 32)
	if err != nil {
		return fmt.Errorf("parse serial %q: not a card serial", c.Serial)
	}
	serial := uint32(n)
	client := agent.NewClient(g.socket())
	if _, serr := client.Status(ctx); serr == nil {
		if err := client.DeleteCard(ctx, serial); err != nil {
			return err // the agent's message names the card
		}
	} else {
		dataDir, err := g.dataDir()
		if err != nil {
			return err
		}
		if err := agent.DeleteFiles(dataDir, serial); err != nil {
			return err
		}
	}
	fmt.Printf("Deleted card %d.\n", serial)
	return nil
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
