package pinpage

import (
	"html/template"
	"net/http"
	"time"

	"github.com/vscard/vscard/desktop-bridge/handoff"
)

// view is what the template sees: a snapshot of the page's state.
type view struct {
	Token    string
	Server   string // set when the trust question is open
	Nonce    string
	AskPIN   bool
	Mode     handoff.PINMode
	Text     modeText // the words of Mode in the page's language
	Claim    *handoff.ClaimInfo
	Problems []handoff.Problem
	Steps    []string
	Final    *handoff.Event
	Digits   bool // the policy allows digits only: numeric keyboard
}

// lang is the page's language; the words of every language are in modeWords and
// handoff's words, and TestWordsInEveryLanguage checks that none is missing.
var lang = handoff.Languages[0]

// modeText is what the PIN form says in one mode.
type modeText struct {
	Heading string // the form's title
	Intro   string // what the person is about to do; may be empty
	Rules   string // introduces the policy's rules
	Current string // label of the current PIN; change mode only
	New     string // label of the new PIN
	Confirm string // label of its confirmation
	Submit  string // the button
	Working string // the title while the run goes on after the form
	Failed  string // the title when the run failed
}

// modeWords holds the form's words per language and mode.
var modeWords = map[string]map[handoff.PINMode]modeText{
	"en": {
		handoff.PINChoose: {
			Heading: "Choose your PIN", Rules: "Your PIN must have:",
			New: "New PIN", Confirm: "Type it again", Submit: "Create my card",
			Working: "Creating your card…", Failed: "The card could not be created",
		},
		handoff.PINChange: {
			Heading: "Change your PIN", Intro: "Type the PIN you use now, then your new PIN twice.",
			Rules: "Your new PIN must have:", Current: "Current PIN",
			New: "New PIN", Confirm: "Type the new PIN again", Submit: "Change my PIN",
			Working: "Changing your PIN…", Failed: "The PIN was not changed",
		},
		handoff.PINUnblock: {
			Heading: "Choose a new PIN",
			Intro:   "Choose a new PIN for your card. The Desktop App then unblocks the card with it; you do not need the old PIN, and your certificates stay as they are.",
			Rules:   "Your new PIN must have:", New: "New PIN", Confirm: "Type it again", Submit: "Unblock my card",
			Working: "Unblocking your card…", Failed: "The card was not unblocked",
		},
		handoff.PINVerify: {
			Heading: "Type your PIN",
			Intro:   "The Desktop App makes new keys on your card and puts your new certificates next to them. Type the PIN of this card to use them; your PIN stays as it is.",
			New:     "PIN", Submit: "Continue",
			Working: "Putting the new certificates on your card…", Failed: "The card did not get its new certificates",
		},
	},
}

var stepText = map[handoff.Step]string{
	handoff.StepClaimed:     "Connected to the server",
	handoff.StepPINAccepted: "PIN meets the rules", // the policy's check; the card has not seen it yet
	handoff.StepCardCreated: "Virtual smart card created",
	handoff.StepCardSecured: "PIN, PUK and management key set on the card",
	handoff.StepKeysCreated: "Keys generated on the card",
	handoff.StepCertsIssued: "Certificates issued",
	handoff.StepCertsStored: "Certificates stored on the card",
	handoff.StepPINChanged:  "PIN changed on the card",
	handoff.StepPINVerified: "The card took your PIN",
	handoff.StepDone:        "Card ready",
}

func (p *Page) snapshot() view {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := view{Token: p.token, Claim: p.claim, Final: p.final}
	if p.trust != nil {
		v.Server, v.Nonce = p.trust.server, p.trust.nonce
	}
	if p.pin != nil {
		v.AskPIN, v.Nonce, v.Problems = true, p.pin.nonce, p.problems
	}
	v.Mode = p.mode
	if v.Mode == "" {
		v.Mode = handoff.PINChoose
	}
	v.Text = modeWords[lang][v.Mode]
	if p.claim != nil {
		pp := p.claim.PINPolicy
		v.Digits = pp.Upper == "DISALLOWED" && pp.Lower == "DISALLOWED" && pp.Special == "DISALLOWED"
	}
	for _, s := range p.steps {
		if t, ok := stepText[s.Step]; ok {
			v.Steps = append(v.Steps, t)
		}
	}
	return v
}

func (p *Page) render(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(w, p.snapshot()); err != nil {
		p.log.Error("render PIN page", "err", err)
	}
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"date": func(t time.Time) string { return t.Local().Format("2 January 2006") },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
{{if not (or .Server .AskPIN .Final)}}<meta http-equiv="refresh" content="1">{{end}}
<title>vscard Desktop App</title>
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2.5rem auto;padding:0 1rem;color:#1d2330;line-height:1.45}
h1{font-size:1.4rem}
.code{font:700 1.6rem ui-monospace,monospace;letter-spacing:.12em;background:#eef2ff;padding:.3rem .7rem;border-radius:.35rem;display:inline-block}
.problems{color:#9b1c1c;background:#fdecec;border:1px solid #f1b0b0;padding:.5rem 1rem;border-radius:.35rem}
label{display:block;margin-top:.8rem;font-weight:600}
input{font:inherit;padding:.45rem;width:100%;box-sizing:border-box}
.buttons{margin-top:1.2rem;display:flex;gap:.6rem}
button{font:inherit;padding:.5rem 1.2rem;border-radius:.35rem;border:1px solid #888;background:#fff}
button.primary{background:#1d4ed8;color:#fff;border-color:#1d4ed8}
.ok{color:#166534}.fail{color:#9b1c1c}
table{border-collapse:collapse;width:100%;margin-top:.5rem}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}
.muted{color:#555;font-size:.92em}
</style>
</head>
<body>
<h1>vscard: your virtual smart card</h1>
{{if .Server}}
<h2>Trust this server?</h2>
<p>A portal asked this computer to create a smart card for the server</p>
<p><strong>{{.Server}}</strong></p>
<p>This server is not on your list of trusted servers. Trust it only if it is your
organisation's vscard server, the one whose portal you just used.</p>
<form method="post" action="/{{.Token}}/trust">
<input type="hidden" name="q" value="{{.Nonce}}">
<div class="buttons">
<button class="primary" type="submit" name="answer" value="trust">Trust this server</button>
<button type="submit" name="answer" value="refuse">Do not trust it</button>
</div>
</form>
{{else if .Final}}
{{with .Final}}
{{if and .Result (eq $.Mode "change")}}
<h2 class="ok">Your PIN is changed</h2>
<p>Card <strong>{{.Result.Serial}}</strong> now takes your new PIN. The portal shows that it is done.</p>
{{else if and .Result (eq $.Mode "verify")}}
<h2 class="ok">Your card has its new certificates</h2>
<p>Card <strong>{{.Result.Serial}}</strong> works with the same PIN. The portal shows that it is done.</p>
<table>
<tr><th scope="row">Valid until</th><td>{{date .Result.ValidUntil}}</td></tr>
</table>
<h3>New certificates</h3>
<table>
<thead><tr><th scope="col">Slot</th><th scope="col">Use</th><th scope="col">Subject</th><th scope="col">Expires</th></tr></thead>
<tbody>
{{range .Result.Certificates}}<tr><td>{{.Slot}}</td><td>{{.Template}}</td><td>{{.Subject}}</td><td>{{date .NotAfter}}</td></tr>
{{end}}</tbody>
</table>
{{else if .Result}}
<h2 class="ok">Your virtual smart card is ready</h2>
<p>Go back to the portal and click <strong>Next</strong> to finish.</p>
<table>
<tr><th scope="row">Card serial</th><td>{{.Result.Serial}}</td></tr>
<tr><th scope="row">For</th><td>{{.Result.UserName}}</td></tr>
<tr><th scope="row">Reader</th><td>{{.Result.Reader}}</td></tr>
<tr><th scope="row">Valid until</th><td>{{date .Result.ValidUntil}}</td></tr>
</table>
<h3>Certificates</h3>
<table>
<thead><tr><th scope="col">Slot</th><th scope="col">Use</th><th scope="col">Subject</th><th scope="col">Expires</th></tr></thead>
<tbody>
{{range .Result.Certificates}}<tr><td>{{.Slot}}</td><td>{{.Template}}</td><td>{{.Subject}}</td><td>{{date .NotAfter}}</td></tr>
{{end}}</tbody>
</table>
{{else}}
<h2 class="fail">{{if eq .Step "cancelled"}}Cancelled{{else}}{{$.Text.Failed}}{{end}}</h2>
<p>{{.Error}}</p>
<p class="muted">Nothing was left behind on this computer. You can start again from the portal.</p>
{{end}}
{{end}}
{{else}}
{{with .Claim}}
<p>Card for <strong>{{.UserName}}</strong> from {{.Server}}</p>
{{if or (eq $.Mode "change") (eq $.Mode "verify")}}<p>Card <strong data-testid="card-serial">{{.CardSerial}}</strong></p>{{end}}
<p>Verification code: <span class="code">{{.VerificationCode}}</span></p>
<p class="muted">The portal shows the same code. If it does not, press Cancel.</p>
{{end}}
{{if .AskPIN}}
<h2>{{.Text.Heading}}</h2>
{{with .Text.Intro}}<p>{{.}}</p>{{end}}
{{if .Problems}}<div class="problems" role="alert"><p>Please check the PINs:</p><ul>{{range .Problems}}<li data-code="{{.Code}}">{{.Message}}</li>{{end}}</ul></div>{{end}}
{{if ne .Mode "verify"}}{{with .Claim}}<p>{{$.Text.Rules}}</p><ul>{{range .Rules}}<li>{{.}}</li>{{end}}</ul>{{end}}{{end}}
<form method="post" action="/{{.Token}}/pin" data-mode="{{.Mode}}">
<input type="hidden" name="q" value="{{.Nonce}}">
{{if eq .Mode "change"}}<label for="current">{{.Text.Current}}</label>
<input id="current" name="current" type="password" autocomplete="current-password" required autofocus{{if .Digits}} inputmode="numeric"{{end}}>
{{end}}<label for="pin">{{.Text.New}}</label>
{{if eq .Mode "verify"}}<input id="pin" name="pin" type="password" autocomplete="current-password" required autofocus>
{{else}}<input id="pin" name="pin" type="password" autocomplete="new-password" required{{if ne .Mode "change"}} autofocus{{end}}{{if .Digits}} inputmode="numeric"{{end}}{{with .Claim}} minlength="{{.PINPolicy.MinLength}}" maxlength="{{.PINPolicy.MaxLength}}"{{end}}>
<label for="confirm">{{.Text.Confirm}}</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required{{if .Digits}} inputmode="numeric"{{end}}{{with .Claim}} minlength="{{.PINPolicy.MinLength}}" maxlength="{{.PINPolicy.MaxLength}}"{{end}}>
{{end}}
<div class="buttons"><button class="primary" type="submit">{{.Text.Submit}}</button></div>
</form>
{{else}}
<h2>{{if .Claim}}{{.Text.Working}}{{else}}Connecting to the server…{{end}}</h2>
{{end}}
{{if .Steps}}<ul>{{range .Steps}}<li class="ok">{{.}}</li>{{end}}</ul>{{end}}
<form method="post" action="/{{.Token}}/cancel">
<div class="buttons"><button type="submit">Cancel</button></div>
</form>
{{end}}
</body>
</html>
`))
