mod charts_agree;
mod disclosure;
