package badservice

import "github.com/aws/aws-sdk-go-v2/service/sso"

var _ = sso.GetRoleCredentialsInput{}
