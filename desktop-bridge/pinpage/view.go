package pinpage

import (
	"html/template"
	"net/http"
	"time"

	"github.com/vscard/vscard/desktop-bridge/enroll"
)

// view is what the template sees: a snapshot of the page's state.
type view struct {
	Token    string
	Server   string // set when the trust question is open
	Nonce    string
	AskPIN   bool
	Claim    *enroll.ClaimInfo
	Problems []string
	Steps    []string
	Final    *enroll.Event
	Digits   bool // the policy allows digits only: numeric keyboard
}

var stepText = map[enroll.Step]string{
	enroll.StepClaimed:     "Connected to the server",
	enroll.StepPINAccepted: "PIN accepted",
	enroll.StepCardCreated: "Virtual smart card created",
	enroll.StepCardSecured: "PIN, PUK and management key set on the card",
	enroll.StepKeysCreated: "Keys generated on the card",
	enroll.StepCertsIssued: "Certificates issued",
	enroll.StepCertsStored: "Certificates stored on the card",
	enroll.StepDone:        "Card ready",
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
{{if .Result}}
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
<h2 class="fail">{{if eq .Step "cancelled"}}Cancelled{{else}}The card could not be created{{end}}</h2>
<p>{{.Error}}</p>
<p class="muted">Nothing was left behind on this computer. You can start again from the portal.</p>
{{end}}
{{end}}
{{else}}
{{with .Claim}}
<p>Card for <strong>{{.UserName}}</strong> from {{.Server}}</p>
<p>Verification code: <span class="code">{{.VerificationCode}}</span></p>
<p class="muted">The portal shows the same code. If it does not, press Cancel.</p>
{{end}}
{{if .AskPIN}}
<h2>Choose your PIN</h2>
{{if .Problems}}<div class="problems" role="alert"><p>Please choose another PIN:</p><ul>{{range .Problems}}<li>{{.}}</li>{{end}}</ul></div>{{end}}
{{with .Claim}}<p>Your PIN must have:</p><ul>{{range .Rules}}<li>{{.}}</li>{{end}}</ul>{{end}}
<form method="post" action="/{{.Token}}/pin">
<input type="hidden" name="q" value="{{.Nonce}}">
<label for="pin">New PIN</label>
<input id="pin" name="pin" type="password" autocomplete="new-password" required autofocus{{if .Digits}} inputmode="numeric"{{end}}{{with .Claim}} minlength="{{.PINPolicy.MinLength}}" maxlength="{{.PINPolicy.MaxLength}}"{{end}}>
<label for="confirm">Type it again</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required{{if .Digits}} inputmode="numeric"{{end}}{{with .Claim}} minlength="{{.PINPolicy.MinLength}}" maxlength="{{.PINPolicy.MaxLength}}"{{end}}>
<div class="buttons"><button class="primary" type="submit">Create my card</button></div>
</form>
{{else}}
<h2>{{if .Claim}}Creating your card…{{else}}Connecting to the server…{{end}}</h2>
{{end}}
{{if .Steps}}<ul>{{range .Steps}}<li class="ok">{{.}}</li>{{end}}</ul>{{end}}
<form method="post" action="/{{.Token}}/cancel">
<div class="buttons"><button type="submit">Cancel</button></div>
</form>
{{end}}
</body>
</html>
`))
