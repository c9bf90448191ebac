package notices

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

//go:embed templates/*.tmpl
var defaultTemplates embed.FS

// The templates of a renewal notice. An administrator replaces either by putting a file of
// the same name into the directory given with --notice-templates.
const (
	SubjectTemplate = "renewal.subject.tmpl"
	BodyTemplate    = "renewal.body.tmpl"
)

// TemplateData is what a notice's templates see.
type TemplateData struct {
	// Name is the person's display name, or their username.
	Name      string
	Email     string
	Serial    string
	ExpiresAt time.Time
	// DaysLeft is the whole days until the card expires (0 on its last day).
	DaysLeft int
	// NoticeDays is the NOTICE_DAYS entry this notice is for.
	NoticeDays int
	// RenewURL is the portal's start page, where the task's Renew button is.
	RenewURL string
}

// Templates renders notices.
type Templates struct {
	subject, body *template.Template
}

// LoadTemplates reads the embedded templates, each replaced by the file of the same name in
// dir when dir is set and has one. A template that does not parse, or fails on sample data,
// is an error at start rather than at the first notice.
func LoadTemplates(dir string) (*Templates, error) {
	load := func(name string) (*template.Template, error) {
		src, err := fs.ReadFile(defaultTemplates, "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("read embedded template %s: %w", name, err)
		}
		if dir != "" {
			b, err := os.ReadFile(filepath.Join(dir, name))
			switch {
			case err == nil:
				src = b
			case !errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("read notice template: %w", err)
			}
		}
		t, err := template.New(name).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("parse notice template %s: %w", name, err)
		}
		return t, nil
	}
	var t Templates
	var err error
	if t.subject, err = load(SubjectTemplate); err != nil {
		return nil, err
	}
	if t.body, err = load(BodyTemplate); err != nil {
		return nil, err
	}
	if _, _, err := t.Render(TemplateData{Name: "Jane Doe", Email: "jane@example.com", Serial: "12345678",
		ExpiresAt: time.Now(), DaysLeft: 14, NoticeDays: 14, RenewURL: "https://vscard.example.com/"}); err != nil {
		return nil, err
	}
	return &t, nil
}

// Render returns a notice's subject (one line) and body.
func (t *Templates) Render(d TemplateData) (subject, body string, err error) {
	var s, b bytes.Buffer
	if err := t.subject.Execute(&s, d); err != nil {
		return "", "", fmt.Errorf("render notice subject: %w", err)
	}
	if err := t.body.Execute(&b, d); err != nil {
		return "", "", fmt.Errorf("render notice body: %w", err)
	}
	// A header is one line: a template that ends in a newline, or has several, must not
	// let the body's text into the headers.
	subject = strings.Join(strings.Fields(s.String()), " ")
	return subject, b.String(), nil
}
