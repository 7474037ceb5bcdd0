package wire

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Page cuts one page out of total sorted items. token is the NextToken or
// Marker the client sent ("" for the first page); size is the page size the
// client asked for (0: defaultSize). It returns the [start, end) window and
// the token for the next page ("" on the last). Tokens are opaque to
// clients, as AWS's are, and a token from another call is refused.
func Page(op string, total int, token string, size, defaultSize int) (start, end int, next string, err *APIError) {
	if size <= 0 {
		size = defaultSize
	}
	if token != "" {
		raw, e := base64.RawURLEncoding.DecodeString(token)
		if e != nil {
			return 0, 0, "", invalidToken(token)
		}
		o, n, ok := strings.Cut(string(raw), ":")
		if !ok || o != op {
			return 0, 0, "", invalidToken(token)
		}
		start, e = strconv.Atoi(n)
		if e != nil || start < 0 || start > total {
			return 0, 0, "", invalidToken(token)
		}
	}
	end = start + size
	if size <= 0 || end > total {
		end = total
	}
	if end < total {
		next = base64.RawURLEncoding.EncodeToString([]byte(op + ":" + strconv.Itoa(end)))
	}
	return start, end, next, nil
}

func invalidToken(t string) *APIError {
	return BadRequest("InvalidNextToken", "The token '%s' is invalid.", t)
}
