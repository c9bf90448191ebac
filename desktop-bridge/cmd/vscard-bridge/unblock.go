package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/vscard/vscard/desktop-bridge/agent"
	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/cardspec/unblockcode"
)

type pinUnblockCmd struct {
	Offline bool   `required:"" help:"Unblock with a challenge the card shows and the response the portal gives on another device, without reaching the server."`
	Serial  string `arg:"" help:"Serial of the card (vscard-bridge cards lists them)."`
	Stdin   bool   `name:"stdin" help:"Read the response and the new PIN from standard input, one line each (the new PIN once)."`
}

// Run unblocks the PIN of a card the agent hosts with unblock-pin-offline's challenge and
// response, talking to the card only (see README, "Unblock PIN offline"): it shows the
// challenge, reads the response the portal gave and the new PIN, and the card checks the
// response. A response with a typing mistake is asked again without troubling the card.
func (c *pinUnblockCmd) Run(ctx context.Context, g *globals) error {
	card, err := hostedCard(ctx, g, c.Serial)
	if err != nil {
		return err
	}
	serial, reader, policy := card.Serial, card.Reader, policyOf(card)
	ch, err := handoff.OfflineChallenge(ctx, reader, serial)
	if err != nil {
		return errors.New(handoff.DescribeIn(lang(), err))
	}
	l := lang()
	fmt.Fprintln(os.Stderr, say(l, "unblocking", serial, reader))
	fmt.Fprintln(os.Stderr, say(l, "unblockWhere", serial))
	fmt.Fprintln(os.Stderr, say(l, "unblockWhat"))
	fmt.Println(say(l, "challenge", ch))
	fmt.Fprintln(os.Stderr, say(l, "unblockThen"))
	for _, r := range handoff.PolicyRulesIn(lang(), policy) {
		fmt.Fprintln(os.Stderr, "  -", r)
	}
	in := bufio.NewScanner(os.Stdin)
	response, pin, err := c.read(in, os.Stderr, policy)
	if err != nil {
		return err
	}
	if err := handoff.OfflineUnblock(ctx, reader, serial, response, pin); err != nil {
		return errors.New(handoff.DescribeIn(lang(), err))
	}
	fmt.Println(say(l, "pinUnblocked", serial))
	return nil
}

// read reads the response, asked again while it has a typing mistake, and the new PIN,
// asked again until it meets the policy and, at a terminal, was typed the same twice.
func (c *pinUnblockCmd) read(in *bufio.Scanner, out io.Writer, policy cardspec.PINPolicy) (response, pin string, err error) {
	for {
		if response, err = readLine(in, say(lang(), "response")); err != nil {
			return "", "", err
		}
		if _, perr := unblockcode.Parse(response); perr == nil {
			break
		}
		if c.Stdin { // the next line is the PIN, not another try
			return "", "", errors.New(handoff.Words(lang(), handoff.ProblemResponseMistyped))
		}
		fmt.Fprintln(out, "  -", handoff.Words(lang(), handoff.ProblemResponseMistyped))
	}
	for {
		a, err := c.readPIN(in, out)
		if err != nil {
			return "", "", err
		}
		problems := handoff.CheckPIN(handoff.PINChoose, policy, a)
		if len(problems) == 0 {
			return response, a.New, nil
		}
		for _, p := range problems {
			fmt.Fprintln(out, "  -", handoff.ProblemWords(lang(), p, policy))
		}
		if c.Stdin { // no second try from a script: say which rules the PIN broke
			return "", "", errors.New(handoff.ProblemWords(lang(), problems[0], policy))
		}
	}
}

// readPIN reads the new PIN: once from standard input, twice without echo at a terminal.
func (c *pinUnblockCmd) readPIN(in *bufio.Scanner, out io.Writer) (handoff.PINAnswer, error) {
	var a handoff.PINAnswer
	if !c.Stdin {
		if restore := noEcho(); restore != nil {
			defer restore()
		}
	}
	var err error
	if a.New, err = readLine(in, say(lang(), "newPIN")); err != nil || c.Stdin {
		return a, err
	}
	again, err := readLine(in, say(lang(), "newPINAgain"))
	if err != nil {
		return a, err
	}
	if again != a.New {
		fmt.Fprintln(out, "  -", handoff.Words(lang(), handoff.ProblemMismatch))
		return c.readPIN(in, out)
	}
	return a, nil
}

// hostedCard finds the card with serial s that the agent put into a reader.
func hostedCard(ctx context.Context, g *globals, s string) (agent.CardInfo, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return agent.CardInfo{}, refuse(err, lang(), "notSerial", s)
	}
	cards, err := agent.NewClient(g.socket()).Cards(ctx)
	if err != nil {
		return agent.CardInfo{}, refuse(err, lang(), "noAgent")
	}
	for _, card := range cards {
		if card.Serial == uint32(n) && card.Reader != "" {
			return card, nil
		}
	}
	return agent.CardInfo{}, errors.New(handoff.Words(lang(), handoff.CodeCardNotHere))
}
