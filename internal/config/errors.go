package config

import (
	"strings"

	"github.com/dblink-go/dblink/internal/pgerr"
)

// errPasswordNotGiven is contrib's error for a non-superuser's string
// without a password, in the words of the current major's contrib (16
// added GSSAPI credential delegation to the rule and to its wording).
func errPasswordNotGiven() *pgerr.Error {
	if ServerMajor() >= 16 {
		return &pgerr.Error{
			SQLState: "2F003",
			Message:  "password or GSSAPI delegated credentials required",
			Detail:   "Non-superusers must provide a password in the connection string or send delegated GSSAPI credentials.",
		}
	}
	return &pgerr.Error{
		SQLState: "2F003",
		Message:  "password is required",
		Detail:   "Non-superusers must provide a password in the connection string.",
	}
}

// errPasswordNotRequested is contrib's error for a non-superuser's
// connection whose server did not ask for the password.
func errPasswordNotRequested() *pgerr.Error {
	if ServerMajor() >= 16 {
		return &pgerr.Error{
			SQLState: "2F003",
			Message:  "password or GSSAPI delegated credentials required",
			Detail:   "Non-superusers may only connect using credentials they provide, eg: password in connection string or delegated GSSAPI credentials",
			Hint:     "Ensure provided credentials match target server's authentication method.",
		}
	}
	return &pgerr.Error{
		SQLState: "2F003",
		Message:  "password is required",
		Detail:   "Non-superuser cannot connect if the server does not request a password.",
		Hint:     "Target server's authentication method must be changed.",
	}
}

// connectFailed is contrib's error for a connection that could not be made;
// detail is libpq's message. Every connection-time failure comes here, so
// this is where the string's passwords are hidden.
func connectFailed(detail string, sec secrets) *pgerr.Error {
	return &pgerr.Error{SQLState: "08001", Message: "could not establish connection", Detail: strings.TrimRight(sec.redact(detail), "\n")}
}
