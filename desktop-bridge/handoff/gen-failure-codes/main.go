// Command gen-failure-codes writes handoff.FailureCodesJSON, the Desktop App's codes that
// can reach an order's failure reason, to handoff.FailureCodesFile for the portal's tests
// (make generate runs it from the repository's root).
package main

import (
	"log"
	"os"

	"github.com/vscard/vscard/desktop-bridge/handoff"
)

func main() {
	if err := os.WriteFile(handoff.FailureCodesFile, handoff.FailureCodesJSON(), 0o644); err != nil {
		log.Fatalf("write failure codes: %v", err)
	}
}
