"""Replay: send a captured request again (`send`) and compare the two answers (`diff`)."""
