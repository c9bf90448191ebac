package options_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/vscard/vscard/server/options"
)

func ExampleEvaluate() {
	// An administrator raises the minimum PIN length and issues an encryption certificate.
	script := strings.NewReplacer(
		"PIN_MIN_LENGTH = 6", "PIN_MIN_LENGTH = 8",
		"ENCRYPTION: None,", "ENCRYPTION: RSA2048,",
	).Replace(options.DefaultScript)

	opts, err := options.Evaluate(context.Background(), script, options.Sample(), options.Env{ServerName: "vscard.example.com"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("PIN length:", opts.PIN.MinLength, "to", opts.PIN.MaxLength)
	for _, c := range opts.Certificates {
		fmt.Println("certificate:", c.Template, c.Slot, c.Algorithm)
	}
	fmt.Println("valid for days:", opts.Validity.Days())
	fmt.Println("profile:", opts.Properties.ProfileName)
	fmt.Println(opts.PIN.Check("12345678")[0].Message)
	// Output:
	// PIN length: 8 to 8
	// certificate: AUTHENTICATION 9A ECCP256
	// certificate: SIGNATURE 9C ECCP256
	// certificate: ENCRYPTION 9D RSA2048
	// valid for days: 730
	// profile: Virtual smart card jane.doe@example.com
	// This PIN is too common.
}

func ExampleValidate() {
	script := strings.Replace(options.DefaultScript, "PIN_MAX_LENGTH = 8", "PIN_MAX_LENGTH = 10", 1)
	_, problems := options.Validate(context.Background(), script, options.Sample(), options.Env{ServerName: "vscard.example.com"})
	for _, p := range problems {
		fmt.Printf("line %d, column %d (%s): %s\n", p.Line, p.Column, p.Path, p.Message)
	}
	// Output:
	// line 28, column 18 (pin.max_length): pin.max_length is 10, but PIV cards store PINs of 6 to 8 characters
}
