package testdata

import "github.com/aws/aws-sdk-go-v2/service/eks"

var _ = eks.DeleteClusterInput{} // testdata is not eksbg
