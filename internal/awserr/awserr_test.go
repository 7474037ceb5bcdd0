package awserr

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "message text that must not matter", Fault: smithy.FaultClient}
}

func TestClassify(t *testing.T) {
	type want struct {
		code                             string
		notFound, throttle, accessDenied bool
	}
	for _, tc := range []struct {
		name string
		err  error
		want want
	}{
		{"nil", nil, want{}},
		{"not an API error", errors.New("dial tcp: connection refused"), want{}},
		{"context's end", fmt.Errorf("describing cluster: %w", context.DeadlineExceeded), want{}},
		{"os not-exist is not AWS's", fmt.Errorf("reading: %w", fs.ErrNotExist), want{}},
		// A message alone never classifies.
		{"message says not found", errors.New("ResourceNotFoundException: no cluster"), want{}},
		{"API error, unknown code", apiErr("ValidationError"), want{code: "ValidationError"}},

		{"EKS not found", apiErr("ResourceNotFoundException"), want{code: "ResourceNotFoundException", notFound: true}},
		{"EKS typed not found", &ekstypes.ResourceNotFoundException{Message: new("no")}, want{code: "ResourceNotFoundException", notFound: true}},
		{"EKS NotFoundException", apiErr("NotFoundException"), want{code: "NotFoundException", notFound: true}},
		{"ELBv2 rule", apiErr("RuleNotFound"), want{code: "RuleNotFound", notFound: true}},
		{"ELBv2 target group", apiErr("TargetGroupNotFound"), want{code: "TargetGroupNotFound", notFound: true}},
		{"ELBv2 load balancer", apiErr("LoadBalancerNotFound"), want{code: "LoadBalancerNotFound", notFound: true}},
		{"ELBv2 listener", apiErr("ListenerNotFound"), want{code: "ListenerNotFound", notFound: true}},
		{"EC2 ENI", apiErr("InvalidNetworkInterfaceID.NotFound"), want{code: "InvalidNetworkInterfaceID.NotFound", notFound: true}},
		{"EC2 subnet", apiErr("InvalidSubnetID.NotFound"), want{code: "InvalidSubnetID.NotFound", notFound: true}},
		{"EC2 VPC", apiErr("InvalidVpcID.NotFound"), want{code: "InvalidVpcID.NotFound", notFound: true}},
		{"EC2 malformed ID is not not-found", apiErr("InvalidSubnetID.Malformed"), want{code: "InvalidSubnetID.Malformed"}},
		{"IAM", apiErr("NoSuchEntity"), want{code: "NoSuchEntity", notFound: true}},
		{"S3 key", apiErr("NoSuchKey"), want{code: "NoSuchKey", notFound: true}},
		{"S3 typed key", &s3types.NoSuchKey{}, want{code: "NoSuchKey", notFound: true}},
		{"S3 bucket", apiErr("NoSuchBucket"), want{code: "NoSuchBucket", notFound: true}},
		{"S3 HEAD 404", apiErr("NotFound"), want{code: "NotFound", notFound: true}},
		{"Service Quotas", apiErr("NoSuchResourceException"), want{code: "NoSuchResourceException", notFound: true}},
		{"CloudWatch", apiErr("ResourceNotFound"), want{code: "ResourceNotFound", notFound: true}},

		{"Throttling", apiErr("Throttling"), want{code: "Throttling", throttle: true}},
		{"ThrottlingException", apiErr("ThrottlingException"), want{code: "ThrottlingException", throttle: true}},
		{"EC2 RequestLimitExceeded", apiErr("RequestLimitExceeded"), want{code: "RequestLimitExceeded", throttle: true}},
		{"TooManyRequestsException", apiErr("TooManyRequestsException"), want{code: "TooManyRequestsException", throttle: true}},
		{"RequestThrottled", apiErr("RequestThrottled"), want{code: "RequestThrottled", throttle: true}},
		{"S3 SlowDown", apiErr("SlowDown"), want{code: "SlowDown", throttle: true}},

		{"S3 AccessDenied", apiErr("AccessDenied"), want{code: "AccessDenied", accessDenied: true}},
		{"EKS AccessDeniedException", apiErr("AccessDeniedException"), want{code: "AccessDeniedException", accessDenied: true}},
		{"EC2 UnauthorizedOperation", apiErr("UnauthorizedOperation"), want{code: "UnauthorizedOperation", accessDenied: true}},
		{"EC2 AuthFailure is authentication", apiErr("AuthFailure"), want{code: "AuthFailure"}},
	} {
		for _, wrapped := range []bool{false, true} {
			err := tc.err
			name := tc.name
			if wrapped && err != nil {
				err = fmt.Errorf("describing things: %w", fmt.Errorf("operation error: %w", err))
				name += " (wrapped twice)"
			}
			t.Run(name, func(t *testing.T) {
				got := want{code: Code(err), notFound: IsNotFound(err), throttle: IsThrottle(err), accessDenied: IsAccessDenied(err)}
				if got != tc.want {
					t.Errorf("got %+v, want %+v", got, tc.want)
				}
				if tc.want.code != "" && !IsCode(err, "Other", tc.want.code) {
					t.Errorf("IsCode(err, Other, %s) = false", tc.want.code)
				}
				if IsCode(err, "Other") || IsCode(err) {
					t.Error("IsCode true for a code err does not have")
				}
				ig := IgnoreNotFound(err)
				if tc.want.notFound && ig != nil {
					t.Errorf("IgnoreNotFound = %v, want nil", ig)
				}
				if !tc.want.notFound && ig != err {
					t.Errorf("IgnoreNotFound = %v, want err itself", ig)
				}
			})
		}
	}
}

// An empty code is no code: IsCode(err, "") of a non-API error is false.
func TestIsCodeEmpty(t *testing.T) {
	if IsCode(errors.New("x"), "") {
		t.Error(`IsCode(non-API error, "") = true`)
	}
}
