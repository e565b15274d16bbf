"""Records and archives (Decree 30/2020, chapter IV, Appendix V): the year's file list, the
dossiers kept by their keepers, and the hand-over of closed dossiers to the agency's archive."""
