package tgfake

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"mime"
	"path"
	"strconv"

	"github.com/go-telegram/bot/models"
)

type storedFile struct {
	models.File
	contentType string
	data        []byte
}

// RegisterFile makes data available through getFile and the file download URL
// (/file/bot{token}/{file_path}) and returns its File (file_id, file_path, ...).
func (s *Server) RegisterFile(name string, data []byte) models.File {
	return s.registerFile("documents", name, mimeByName(name), data).File
}

func (s *Server) registerFile(dir, name, contentType string, data []byte) *storedFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registerFileLocked(dir, name, contentType, data)
}

func (s *Server) registerFileLocked(dir, name, contentType string, data []byte) *storedFile {
	s.nextFile++
	n := strconv.Itoa(s.nextFile)
	ext := path.Ext(name)
	if ext == "" {
		ext = ".bin"
	}
	f := &storedFile{
		File: models.File{
			FileID:       "AgACAgIAAxkBAAFake" + n,
			FileUniqueID: "AQADFake" + n,
			FileSize:     int64(len(data)),
			FilePath:     dir + "/file_" + n + ext,
		},
		contentType: contentType,
		data:        data,
	}
	s.files[f.FileID] = f
	s.filesByPath[f.FilePath] = f
	return f
}

func mimeByName(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// fakeJPEG returns a small valid JPEG image.
func fakeJPEG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			img.Set(x, y, color.RGBA{R: uint8(x * 32), G: uint8(y * 32), B: 128, A: 255})
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, nil)
	return b.Bytes()
}
