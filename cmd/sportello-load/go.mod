module github.com/inps/sportello/cmd/sportello-load

go 1.26.8

require github.com/valyala/fasthttp v1.68.0

require (
	github.com/andybalholm/brotli v1.2.0 // indirect
	github.com/klauspost/compress v1.20.1 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
)
