package scenario

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

var reBucket = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ValidateBucketName checks S3's naming rules for general purpose buckets
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html);
// the emulator's CreateBucket applies them too.
func ValidateBucketName(name string) error {
	switch {
	case !reBucket.MatchString(name):
		return fmt.Errorf("bucket name %q must be 3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit", name)
	case strings.Contains(name, ".."):
		return fmt.Errorf("bucket name %q must not have two adjacent periods", name)
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return fmt.Errorf("bucket name %q must not be an IP address", name)
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return fmt.Errorf("bucket name %q must not start with %q (reserved)", name, p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return fmt.Errorf("bucket name %q must not end with %q (reserved)", name, s)
		}
	}
	return nil
}
