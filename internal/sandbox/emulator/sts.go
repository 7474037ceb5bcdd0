package emulator

import (
	"strings"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// STS: GetCallerIdentity (AWS query protocol).
// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
func (s *Server) registerSTS() {
	s.register(wire.ServiceSTS, "GetCallerIdentity", func(c *call) (any, *wire.APIError) {
		type result struct {
			UserID  string `xml:"UserId"`
			Account string `xml:"Account"`
			Arn     string `xml:"Arn"`
		}
		for _, cred := range c.w.Credentials {
			if cred.AccessKeyID == c.req.AccessKeyID {
				return &result{UserID: userID(cred.AccessKeyID), Account: c.w.Account, Arn: cred.ARN}, nil
			}
		}
		return nil, wire.Errorf(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
	})
}

// userID is the unique ID of an IAM user: AIDA followed by 17 characters.
func userID(akid string) string {
	return "AIDA" + strings.ToUpper(stableID("user", akid)[:17])
}
