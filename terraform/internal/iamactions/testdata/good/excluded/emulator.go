package excluded

import "github.com/aws/aws-sdk-go-v2/service/eks"

var _ = eks.DeleteClusterInput{} // excluded by Options.Exclude
