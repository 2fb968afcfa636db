import EDIFACT
