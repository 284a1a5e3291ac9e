package tgfake

import (
	"strconv"

	"github.com/go-telegram/bot/models"
)

// PushAlbum queues n photo messages of one album, as Telegram sends one:
// one update per photo, all with the same media_group_id, the caption on
// the first. Each photo is a distinct fake JPEG served by getFile. It
// returns the update ids and the media group id.
func (s *Server) PushAlbum(chatID int64, n int, caption string) ([]int, string) {
	user := s.DefaultUser(chatID)
	s.mu.Lock()
	group := "album-" + strconv.FormatInt(s.nextUpdateID, 10) + "-" + strconv.FormatInt(chatID, 10)
	s.mu.Unlock()
	ids := make([]int, 0, n)
	for i := range n {
		img := append(fakeJPEG(), byte(i)) // a distinct file per photo
		f := s.registerFile("photos", "album_"+strconv.Itoa(i)+".jpg", "image/jpeg", img)
		ids = append(ids, s.push(func(u *models.Update, msgID int, now int) {
			u.Message = s.incoming(user, chatID, msgID, now)
			u.Message.Photo = []models.PhotoSize{{FileID: f.FileID, FileUniqueID: f.FileUniqueID, Width: 320, Height: 320, FileSize: len(img)}}
			u.Message.MediaGroupID = group
			if i == 0 {
				u.Message.Caption = caption
			}
		}))
	}
	return ids, group
}

// PushVenue queues a venue message (a place chosen in Telegram's location
// picker: a location with a title and an address).
func (s *Server) PushVenue(chatID int64, lat, lon float64, title, address string) int {
	user := s.DefaultUser(chatID)
	return s.push(func(u *models.Update, msgID int, now int) {
		u.Message = s.incoming(user, chatID, msgID, now)
		u.Message.Venue = &models.Venue{Location: models.Location{Latitude: lat, Longitude: lon}, Title: title, Address: address}
		u.Message.Location = &models.Location{Latitude: lat, Longitude: lon}
	})
}
