package options

// These are the values a script receives; what it returns is a cardspec.Options.

// User is what a script sees of the person ordering.
type User struct {
	ID          string         `json:"id"`
	Username    string         `json:"username"`
	Email       string         `json:"email"`
	DisplayName string         `json:"displayName"`
	Roles       []string       `json:"roles"`
	Attributes  map[string]any `json:"attributes"`
}

// Env is what a script sees of the server.
type Env struct {
	ServerName string `json:"serverName"`
}
