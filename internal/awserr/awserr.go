// Package awserr classifies the errors of AWS API calls by their error
// code (smithy.APIError.ErrorCode), as the services document them, never
// by message text: messages change, codes are the API. Wrapped errors are
// unwrapped (errors.As). Modelled on karpenter-provider-aws's
// pkg/errors/errors.go.
package awserr

import (
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Code is err's AWS error code, or "" when err is nil or not an AWS API
// error (a network error, a context's end, an error of eksbg's own).
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// IsCode reports whether err is an AWS API error with one of the codes.
func IsCode(err error, codes ...string) bool {
	c := Code(err)
	return c != "" && slices.Contains(codes, c)
}

// IsNotFound reports whether err says that what a call named does not
// exist, in any of the services eksbg calls. A caller that must tell a
// missing bucket from a missing key asks IsCode instead.
func IsNotFound(err error) bool {
	c := Code(err)
	switch c {
	case
		// EKS (DescribeCluster, DescribeNodegroup, DescribeAddon, ...).
		"ResourceNotFoundException", "NotFoundException",
		// Elastic Load Balancing v2.
		"RuleNotFound", "TargetGroupNotFound", "LoadBalancerNotFound", "ListenerNotFound",
		// IAM.
		"NoSuchEntity",
		// S3 (NotFound: a HEAD's 404, which has no body to name a code).
		"NoSuchKey", "NoSuchBucket", "NotFound",
		// Service Quotas: a quota with no applied value.
		"NoSuchResourceException",
		// CloudWatch, and ELBv2 for a resource named by ARN in tag calls.
		"ResourceNotFound":
		return true
	}
	// EC2 names every one Invalid<Thing>.NotFound
	// (InvalidNetworkInterfaceID.NotFound, InvalidSubnetID.NotFound,
	// InvalidVpcID.NotFound, InvalidInstanceID.NotFound, ...):
	// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
	return strings.HasPrefix(c, "Invalid") && strings.HasSuffix(c, ".NotFound")
}

// IgnoreNotFound returns nil when IsNotFound(err), err otherwise: for
// deletes and cleanups, where a thing already gone is what was asked for.
func IgnoreNotFound(err error) error {
	if IsNotFound(err) {
		return nil
	}
	return err
}

// IsThrottle reports whether err is AWS throttling the caller
// (Throttling, ThrottlingException, RequestLimitExceeded,
// TooManyRequestsException, RequestThrottled, SlowDown, ...). The codes
// are the SDK's own (retry.DefaultThrottleErrorCodes), so what this calls
// throttling is what the SDK's standard retryer backs off on.
func IsThrottle(err error) bool {
	return retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}.IsErrorThrottle(err) == aws.TrueTernary
}

// IsAccessDenied reports whether err is AWS refusing the caller's
// identity the action: AccessDenied (S3, IAM, ELBv2),
// AccessDeniedException (EKS, Service Quotas, CloudWatch) and
// UnauthorizedOperation (EC2).
func IsAccessDenied(err error) bool {
	return IsCode(err, "AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
}
