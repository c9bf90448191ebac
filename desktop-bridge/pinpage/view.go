package pinpage

import (
	"time"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/server/cardspec"
)

// state is what GET state returns: a snapshot of the page's state, in codes and
// values only. The page turns every code into words in the person's language, so no
// English sentence of the Desktop App, no error chain and no state name reaches it.
type state struct {
	// Version grows with every change; the page passes it back as ?after= to wait for
	// the next one.
	Version uint64 `json:"version"`
	// Trust is set while the trust question is open.
	Trust *trustView `json:"trust,omitempty"`
	// PIN is set while the PIN form is open.
	PIN *pinView `json:"pin,omitempty"`
	// Mode is the mode of the last PIN question, for the words of the progress and
	// result views; "choose" before the first.
	Mode  handoff.PINMode `json:"mode"`
	Claim *claimView      `json:"claim,omitempty"`
	// Steps are the steps of the run so far, in order.
	Steps []handoff.Step `json:"steps"`
	Final *finalView     `json:"final,omitempty"`
}

type trustView struct {
	Server string `json:"server"`
	Nonce  string `json:"nonce"`
}

type pinView struct {
	Nonce string `json:"nonce"`
	// Problems say why the previous answer was refused.
	Problems []problemView `json:"problems"`
}

// problemView is a refusal as a code; Tries is set for handoff.ProblemCurrentWrong.
type problemView struct {
	Code  handoff.Code `json:"code"`
	Tries int          `json:"tries,omitempty"`
}

type claimView struct {
	Server           string `json:"server"`
	UserName         string `json:"userName"`
	VerificationCode string `json:"verificationCode"`
	CardSerial       string `json:"cardSerial,omitempty"`
	// Policy is the order's PIN policy; the page words its rules.
	Policy cardspec.PINPolicy `json:"policy"`
}

// finalView is how the run ended. Code is the Desktop App's code of a refusal
// (handoff.Code), ServerCode the server's error code; either may be empty (an
// unexpected fault: the details are in the Desktop App's log).
type finalView struct {
	Step       handoff.Step `json:"step"`
	Code       handoff.Code `json:"code,omitempty"`
	ServerCode string       `json:"serverCode,omitempty"`
	Result     *resultView  `json:"result,omitempty"`
}

// resultView is the finished card as a person needs it: no reader name, no slots, no
// PEM.
type resultView struct {
	Serial       string     `json:"serial"`
	UserName     string     `json:"userName"`
	ValidUntil   time.Time  `json:"validUntil"`
	Certificates []certView `json:"certificates"`
}

type certView struct {
	Template string    `json:"template"`
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"notAfter"`
}

func (p *Page) snapshot() state {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := state{Version: p.version, Mode: p.mode, Steps: []handoff.Step{}}
	if v.Mode == "" {
		v.Mode = handoff.PINChoose
	}
	if p.trust != nil {
		v.Trust = &trustView{Server: p.trust.server, Nonce: p.trust.nonce}
	}
	if p.pin != nil {
		pv := &pinView{Nonce: p.pin.nonce, Problems: []problemView{}}
		for _, pr := range p.problems {
			pv.Problems = append(pv.Problems, problemView{Code: pr.Code, Tries: pr.Tries})
		}
		v.PIN = pv
	}
	if c := p.claim; c != nil {
		v.Claim = &claimView{Server: c.Server, UserName: c.UserName, VerificationCode: c.VerificationCode,
			CardSerial: c.CardSerial, Policy: c.PINPolicy}
	}
	for _, s := range p.steps {
		switch s.Step {
		case handoff.StepDone, handoff.StepFailed, handoff.StepCancelled:
		default:
			v.Steps = append(v.Steps, s.Step)
		}
	}
	if f := p.final; f != nil {
		fv := &finalView{Step: f.Step, Code: f.Code, ServerCode: f.ServerCode}
		if r := f.Result; r != nil {
			rv := &resultView{Serial: r.Serial, UserName: r.UserName, ValidUntil: r.ValidUntil, Certificates: []certView{}}
			for _, c := range r.Certificates {
				rv.Certificates = append(rv.Certificates, certView{Template: c.Template, Subject: c.Subject, NotAfter: c.NotAfter})
			}
			fv.Result = rv
		}
		v.Final = fv
	}
	return v
}
