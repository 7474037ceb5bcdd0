package emulator

import (
	"encoding/base64"
	"encoding/xml"
	"net/url"
	"strconv"
	"strings"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

type listEntry struct {
	Key               string         `xml:"Key"`
	LastModified      wire.Timestamp `xml:"LastModified"`
	ETag              string         `xml:"ETag"`
	Size              int            `xml:"Size"`
	StorageClass      string         `xml:"StorageClass"`
	Owner             *s3Owner       `xml:"Owner,omitempty"`
	ChecksumAlgorithm string         `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string         `xml:"ChecksumType,omitempty"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

type listBucketResult struct {
	XMLName               xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	KeyCount              int            `xml:"KeyCount"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	Contents              []listEntry    `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
}

// listToken is the opaque continuation token: the last key or common
// prefix of the page, so the next page starts after it (after everything
// under it, for a prefix).
func listToken(last string, isPrefix bool) string {
	kind := "k"
	if isPrefix {
		kind = "p"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + last))
}

func parseListToken(t string) (last string, isPrefix bool, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return "", false, false
	}
	kind, last, found := strings.Cut(string(raw), ":")
	if !found || (kind != "k" && kind != "p") {
		return "", false, false
	}
	return last, kind == "p", true
}

// s3ListObjectsV2 lists keys in UTF-8 binary order, rolling keys up to
// their common prefix at the first delimiter after the prefix; a common
// prefix counts once against max-keys (default and most 1,000)
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html).
func s3ListObjectsV2(c *call) (any, *wire.APIError) {
	b, aerr := c.bucket()
	if aerr != nil {
		return nil, aerr
	}
	q := c.req.HTTP.URL.Query()
	prefix, delim, startAfter, token := q.Get("prefix"), q.Get("delimiter"), q.Get("start-after"), q.Get("continuation-token")
	maxKeys := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, invalidArgument("max-keys", v, "Provided max-keys not an integer or within integer range")
		}
		maxKeys = min(n, 1000)
	}
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		return nil, invalidArgument("encoding-type", enc, "Invalid Encoding Method specified in Request")
	}
	after, afterPrefix := startAfter, false
	if q.Has("continuation-token") {
		var ok bool
		if after, afterPrefix, ok = parseListToken(token); !ok {
			return nil, invalidArgument("continuation-token", token, "The continuation token provided is incorrect")
		}
	}
	out := listBucketResult{Name: b.Name, Prefix: prefix, MaxKeys: maxKeys, Delimiter: delim, EncodingType: enc,
		ContinuationToken: token, StartAfter: startAfter}
	last, lastIsPrefix := "", false
	for _, k := range sortedKeys(b.Objects) {
		if !strings.HasPrefix(k, prefix) || k <= after || (afterPrefix && strings.HasPrefix(k, after)) {
			continue
		}
		item, isPrefix := k, false
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				item, isPrefix = k[:len(prefix)+i+len(delim)], true
				if lastIsPrefix && item == last {
					continue
				}
			}
		}
		if out.KeyCount == maxKeys {
			out.IsTruncated = maxKeys > 0
			break
		}
		if isPrefix {
			out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: item})
		} else {
			o := b.Objects[k]
			e := listEntry{Key: k, LastModified: wire.TS(o.LastModified), ETag: o.ETag, Size: len(o.Body), StorageClass: "STANDARD",
				ChecksumAlgorithm: o.ChecksumAlgorithm, ChecksumType: "FULL_OBJECT"}
			if q.Get("fetch-owner") == "true" {
				e.Owner = &s3Owner{ID: c.w.s3OwnerID()}
			}
			out.Contents = append(out.Contents, e)
		}
		last, lastIsPrefix = item, isPrefix
		out.KeyCount++
	}
	if out.IsTruncated {
		out.NextContinuationToken = listToken(last, lastIsPrefix)
	}
	if enc == "url" {
		// S3 URL-encodes these elements; clients decode them.
		esc := url.QueryEscape
		out.Prefix, out.Delimiter, out.StartAfter = esc(out.Prefix), esc(out.Delimiter), esc(out.StartAfter)
		for i := range out.Contents {
			out.Contents[i].Key = esc(out.Contents[i].Key)
		}
		for i := range out.CommonPrefixes {
			out.CommonPrefixes[i].Prefix = esc(out.CommonPrefixes[i].Prefix)
		}
	}
	return out, nil
}
