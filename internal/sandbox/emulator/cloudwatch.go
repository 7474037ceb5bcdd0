package emulator

func (s *Server) registerCloudWatch() {}
